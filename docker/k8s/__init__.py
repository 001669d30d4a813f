"""The Kubernetes manifests (Kustomize) and the checks of them (`docker.k8s.manifests`)."""
