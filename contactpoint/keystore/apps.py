from django.apps import AppConfig


class KeyStoreConfig(AppConfig):
    name = "contactpoint.keystore"
    label = "keystore"
    default_auto_field = "django.db.models.BigAutoField"
