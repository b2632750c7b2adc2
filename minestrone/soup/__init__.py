"""The tutorial's app: a slow job queued from a web form and the list of running jobs."""
