"""The production artifacts (images, Compose, Kubernetes, Lambda) and the checks of them."""
