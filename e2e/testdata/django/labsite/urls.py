from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.http import require_POST

from . import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    # POST only, as from Django 5.0 on; Debian's 3.2 would also log out on GET.
    path("accounts/logout/", require_POST(auth_views.LogoutView.as_view()), name="logout"),
    path("whoami/", views.whoami, name="whoami"),
    path("items/<int:id>/", views.item, name="item"),
]
