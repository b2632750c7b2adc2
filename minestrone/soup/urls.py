"""URL routes of the soup app."""

from django.urls import path

from minestrone.soup import views

app_name = "soup"

urlpatterns = [
    path("", views.EditorView.as_view(), name="editor"),
    path("active/", views.ActiveTasksView.as_view(), name="active"),
]
