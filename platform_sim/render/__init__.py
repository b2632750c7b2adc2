"""Configuration files rendered for instances and the router: supervisord, nginx."""
