from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xinyue.accounts"
    label = "accounts"
