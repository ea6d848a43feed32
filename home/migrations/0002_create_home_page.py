"""Replace Wagtail's placeholder welcome page with the portal's home page."""

from django.db import migrations


def create_home_page(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("home.HomePage")

    # wagtailcore's initial data makes a plain Page at depth 2; remove it.
    Page.objects.filter(
        content_type__app_label="wagtailcore", content_type__model="page", depth=2
    ).delete()
    content_type, _ = ContentType.objects.get_or_create(
        app_label="home", model="homepage"
    )
    home = HomePage.objects.create(
        title="Home",
        draft_title="Home",
        slug="home",
        content_type=content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        live=True,
    )
    root = Page.objects.get(depth=1)
    root.numchild = 1
    root.save(update_fields=["numchild"])
    Site.objects.all().delete()
    Site.objects.create(
        hostname="localhost",
        port=80,
        root_page_id=home.pk,
        is_default_site=True,
        site_name="CMARAC partner portal",
    )


def remove_home_page(apps, schema_editor):
    HomePage = apps.get_model("home.HomePage")
    HomePage.objects.filter(depth=2).delete()


class Migration(migrations.Migration):
    # Run before Wagtail adds locales, as Wagtail's own project template does.
    run_before = [("wagtailcore", "0053_locale_model")]
    dependencies = [("home", "0001_initial")]

    operations = [migrations.RunPython(create_home_page, remove_home_page)]
