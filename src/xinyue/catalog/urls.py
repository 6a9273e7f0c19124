from django.urls import path

from xinyue.catalog import views, views_console

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("search/advanced/", views.advanced_search, name="advanced_search"),
    path("titles/<int:title_id>/", views.title_detail, name="title"),
    # Category names may contain "/" (国学/古籍), so the key takes the rest of the path.
    path("categories/<path:key>/", views.category, name="category"),
    path("shelf/", views.shelf, name="shelf"),
    path("shelf/add/", views.shelf_add, name="shelf_add"),
    path("shelf/remove/", views.shelf_remove, name="shelf_remove"),
    # Operator console: curation and catalog import.
    path("console/catalog/categories/", views_console.categories, name="console_categories"),
    path(
        "console/catalog/categories/<int:category_id>/",
        views_console.category_edit,
        name="console_category",
    ),
    path("console/catalog/picks/<str:kind>/", views_console.picks, name="console_picks"),
    path(
        "console/catalog/picks/<str:kind>/<int:pick_id>/<str:action>/",
        views_console.pick_action,
        name="console_pick_action",
    ),
    path("console/catalog/notices/", views_console.notices, name="console_notices"),
    path(
        "console/catalog/notices/<int:notice_id>/",
        views_console.notice_edit,
        name="console_notice",
    ),
    path("console/catalog/import/", views_console.catalog_import, name="console_import"),
]
