"""Push, deploy, redeploy, roll back, verify and destroy an application."""
