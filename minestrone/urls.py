"""URL routes: the soup pages at the root, the admin, the monitor and its API."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "minestrone administration"
admin.site.site_title = "minestrone"
# The monitor's lists need the width: the app list stays on the admin's home page.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path("monitor/", include("minestrone.monitor.urls")),
    path("api/", include("minestrone.monitor.api.urls")),
    path("", include("minestrone.soup.urls")),
]
