"""The gateway service: one front door for every service's API and docs."""
