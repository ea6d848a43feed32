"""Who may see each attachment, and the coordinator's free-text review.

Existing attachments become restricted when their referral (or draft) is
marked "do not disclose" or "anonymous source", and shared otherwise.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

_FLAGS = ("do_not_disclose", "anonymous_source")


def _flagged_draft(draft) -> bool:
    consent = (draft.answers or {}).get("consent") or {}
    return any(consent.get(flag) for flag in _FLAGS)


def set_visibility(apps, schema_editor):
    Attachment = apps.get_model("referrals", "ReferralAttachment")
    for attachment in Attachment.objects.select_related("referral", "draft"):
        if attachment.referral_id is not None:
            referral = attachment.referral
            flagged = referral.do_not_disclose or referral.anonymous_source
        else:
            flagged = attachment.draft_id is not None and _flagged_draft(
                attachment.draft
            )
        attachment.visibility = "restricted" if flagged else "shared"
        attachment.save(update_fields=["visibility"])


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0004_share_reason_choices_and_required_end"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="referralattachment",
            name="visibility",
            field=models.CharField(
                choices=[
                    ("restricted", "The referring agency and coordinators only"),
                    ("shared", "Every agency the case is shared with"),
                ],
                default="restricted",
                max_length=20,
                verbose_name="Who can see this file",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(set_visibility, migrations.RunPython.noop),
        migrations.CreateModel(
            name="ReferralFreeTextReview",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            (
                                "confirmed",
                                "Confirmed: no identifying details in the free text",
                            ),
                            ("summary", "Summary written for partner agencies"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "summary",
                    models.TextField(
                        blank=True,
                        help_text="Replaces the free-text answers for agencies "
                        "other than the referring one.",
                        verbose_name="Summary for partner agencies",
                    ),
                ),
                ("reviewed_by_label", models.CharField(max_length=300)),
                (
                    "reviewed_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now()
                    ),
                ),
                (
                    "referral",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="free_text_review",
                        to="referrals.referral",
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "confirmed"), ("summary", "")),
                            models.Q(
                                ("kind", "summary"),
                                models.Q(("summary", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="free_text_review_summary_only_with_kind",
                    )
                ],
            },
        ),
    ]
