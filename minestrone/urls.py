"""URL routes: the soup pages at the root, and the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("minestrone.soup.urls")),
]
