from django.contrib.auth import views as auth_views
from django.urls import path

from stechec.www.contest import health
from stechec.www.contest.views import (
    accounts,
    champions,
    home,
    leaderboard,
    learn,
    live,
    maps,
    matches,
    status,
    tournaments,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("health", health.health, name="health"),
    path("accounts/login/", accounts.ContestLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", accounts.register, name="register"),

    path("champions/", champions.champion_list, name="champion-list"),
    path("champions/mine/", champions.champion_list, {"mine": True}, name="champion-mine"),
    path("champions/new/", champions.champion_new, name="champion-new"),
    path("champions/<int:pk>/", champions.champion_detail, name="champion-detail"),
    path("champions/<int:pk>/live.json", live.champion_live, name="champion-live"),
    path("champions/<int:pk>/log/", champions.champion_log, name="champion-log"),
    path("champions/<int:pk>/compilation.log", champions.champion_log_download,
         name="champion-log-download"),
    path("champions/<int:pk>/sources.tgz", champions.champion_sources, name="champion-sources"),
    path("champions/<int:pk>/delete/", champions.champion_delete, name="champion-delete"),

    path("matches/", matches.match_list, name="match-list"),
    path("matches/mine/", matches.match_list, {"mine": True}, name="match-mine"),
    path("matches/new/", matches.match_new, name="match-new"),
    path("matches/new/champions.json", matches.match_champion_search,
         name="match-champion-search"),
    path("matches/<int:pk>/", matches.match_detail, name="match-detail"),
    path("matches/<int:pk>/live.json", live.match_live, name="match-live"),
    path("matches/<int:pk>/server-log/", matches.match_server_log, name="match-server-log"),
    path("matches/<int:pk>/server.log", matches.match_server_log_download,
         name="match-server-log-download"),
    path("matches/<int:pk>/players/<int:player_pk>/log/", matches.match_player_log,
         name="match-player-log"),
    path("matches/<int:pk>/players/<int:player_pk>.log", matches.match_player_log_download,
         name="match-player-log-download"),
    path("matches/<int:pk>/dump.json.gz", matches.match_dump, name="match-dump"),
    path("matches/<int:pk>/dump.json", matches.match_dump_json, name="match-dump-json"),
    path("matches/<int:pk>/viewer/", matches.match_viewer, name="match-viewer"),
    path("matches/<int:pk>/replay", matches.match_replay, name="match-replay"),

    path("maps/", maps.map_list, name="map-list"),
    path("maps/new/", maps.map_new, name="map-new"),
    path("maps/<int:pk>/", maps.map_detail, name="map-detail"),
    path("maps/<int:pk>/official/", maps.map_official, name="map-official"),

    path("tournaments/", tournaments.tournament_list, name="tournament-list"),
    path("tournaments/new/", tournaments.tournament_new, name="tournament-new"),
    path("tournaments/<int:pk>/", tournaments.tournament_detail, name="tournament-detail"),
    path("tournaments/<int:pk>/live.json", live.tournament_live, name="tournament-live"),
    path("tournaments/<int:pk>/launch/", tournaments.tournament_launch,
         name="tournament-launch"),
    path("tournaments/<int:pk>/rerun-failed/", tournaments.tournament_rerun_failed,
         name="tournament-rerun-failed"),
    path("tournaments/<int:pk>/standings.csv", tournaments.tournament_standings_csv,
         name="tournament-standings-csv"),
    path("tournaments/<int:pk>/matrix.csv", tournaments.tournament_matrix_csv,
         name="tournament-matrix-csv"),

    path("leaderboard/", leaderboard.leaderboard, name="leaderboard"),
    path("champions/<int:pk>/rating/", leaderboard.champion_rating, name="champion-rating"),

    path("status/", status.cluster_status, name="cluster-status"),
    path("status/live.json", live.status_live, name="cluster-status-live"),

    path("learn/", learn.learn_index, name="learn"),
    path("learn/game/<slug:slug>/", learn.learn_game_doc, name="learn-game-doc"),
    path("learn/player-env/<slug:language>.tgz", learn.player_env_download,
         name="learn-player-env"),
]
