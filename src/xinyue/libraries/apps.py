from django.apps import AppConfig


class LibrariesConfig(AppConfig):
    name = "xinyue.libraries"
    label = "libraries"
