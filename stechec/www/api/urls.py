from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from stechec.www.api import views

v1 = [
    path("champions/", views.ChampionList.as_view(), name="api-champions"),
    path("champions/<int:pk>/", views.ChampionDetail.as_view(), name="api-champion"),
    path("champions/<int:pk>/sources/", views.ChampionSources.as_view(),
         name="api-champion-sources"),
    path("champions/<int:pk>/rating/", views.ChampionRatingHistory.as_view(),
         name="api-champion-rating"),
    path("champions/<int:pk>/log/", views.ChampionLog.as_view(), name="api-champion-log"),
    path("matches/", views.MatchList.as_view(), name="api-matches"),
    path("matches/<int:pk>/", views.MatchDetail.as_view(), name="api-match"),
    path("matches/<int:pk>/dump/", views.MatchDump.as_view(), name="api-match-dump"),
    path("matches/<int:pk>/replay/", views.MatchReplay.as_view(), name="api-match-replay"),
    path("matches/<int:pk>/log/", views.MatchServerLog.as_view(), name="api-match-log"),
    path("matches/<int:pk>/players/<int:player_pk>/log/", views.MatchPlayerLog.as_view(),
         name="api-match-player-log"),
    path("maps/", views.MapList.as_view(), name="api-maps"),
    path("maps/<int:pk>/", views.MapDetail.as_view(), name="api-map"),
    path("tournaments/", views.TournamentList.as_view(), name="api-tournaments"),
    path("tournaments/<int:pk>/", views.TournamentDetail.as_view(), name="api-tournament"),
    path("tournaments/<int:pk>/matrix/", views.TournamentMatrix.as_view(),
         name="api-tournament-matrix"),
    path("tournaments/<int:pk>/rerun-failed/", views.TournamentRerunFailed.as_view(),
         name="api-tournament-rerun-failed"),
    path("tournaments/<int:pk>/launch/", views.TournamentLaunch.as_view(),
         name="api-tournament-launch"),
    path("tournaments/<int:pk>/standings/", views.TournamentStandings.as_view(),
         name="api-tournament-standings"),
    path("leaderboard/", views.Leaderboard.as_view(), name="api-leaderboard"),
    path("tokens/", views.TokenCreate.as_view(), name="api-tokens"),
    path("webhooks/", views.WebhookList.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", views.WebhookDetail.as_view(), name="api-webhook"),
    path("webhooks/<int:pk>/deliveries/", views.WebhookDeliveries.as_view(),
         name="api-webhook-deliveries"),
    path("cluster/", views.ClusterStatus.as_view(), name="api-cluster"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema",
                                                     permission_classes=[AllowAny]), name="api-docs"),
]
