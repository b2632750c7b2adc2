"""URL routes of the monitor's own pages."""

from django.urls import path

from minestrone.monitor import views

app_name = "monitor"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("metrics", views.metrics_view, name="metrics"),
]
