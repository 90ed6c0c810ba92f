from django.urls import path

from stechec.www.contest import views

urlpatterns = [
    path("", views.home, name="home"),
]
