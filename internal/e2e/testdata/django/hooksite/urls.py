from django.urls import path

from . import views

urlpatterns = [
    path("webhook/stripe/", views.my_webhook_view),
]
