# The card models moved here from the readers app. Their tables keep the readers_* names and
# their rows: this migration takes the models over in Django's state only, and renames their
# content types so that permissions and generic references follow.

import django.db.models.deletion
from django.db import migrations, models


MOVED = ["card", "cardevent", "cardseries", "cardlinkrequest", "manualreview"]


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="cards", model=model).exists():
            ContentType.objects.filter(app_label="readers", model=model).update(app_label="cards")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="cards", model__in=MOVED).update(app_label="readers")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('libraries', '0002_load_zhejiang_libraries'),
        ('readers', '0006_cards_moved'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Card',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('number', models.CharField(max_length=40, verbose_name='证号')),
                        ('kind', models.CharField(choices=[('credit', '信用免押证'), ('deposit', '押金证'), ('existing', '已有读者证')], max_length=10, verbose_name='类型')),
                        ('status', models.CharField(choices=[('active', '正常'), ('suspended', '暂停'), ('cancelled', '注销')], default='active', max_length=10, verbose_name='状态')),
                        ('deposit_fen', models.PositiveIntegerField(default=0, verbose_name='押金（分）')),
                        ('issued_at', models.DateTimeField(verbose_name='办证时间')),
                        ('service_activated_at', models.DateTimeField(blank=True, null=True, verbose_name='开通信阅服务时间')),
                        ('status_reason', models.CharField(blank=True, max_length=200, verbose_name='状态原因')),
                        ('library', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cards', to='libraries.library')),
                        ('reader', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cards', to='readers.reader')),
                    ],
                    options={
                        'db_table': 'readers_card',
                        'ordering': ['issued_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='CardEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('actor_ref', models.CharField(max_length=40)),
                        ('actor_label', models.CharField(blank=True, max_length=120)),
                        ('channel', models.CharField(choices=[('alipay', 'alipay'), ('wechat', 'wechat'), ('pc', 'pc'), ('desk', 'desk'), ('kiosk', 'kiosk'), ('api', 'api'), ('system', 'system')], max_length=12)),
                        ('from_state', models.CharField(blank=True, max_length=24)),
                        ('to_state', models.CharField(blank=True, max_length=24)),
                        ('note', models.CharField(blank=True, max_length=500)),
                        ('card', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='cards.card')),
                    ],
                    options={
                        'db_table': 'readers_cardevent',
                        'ordering': ['at', 'id'],
                        'abstract': False,
                    },
                ),
                migrations.CreateModel(
                    name='CardLinkRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('card_number', models.CharField(max_length=40, verbose_name='证号')),
                        ('method', models.CharField(choices=[('staff', '馆员审核'), ('sip2', 'SIP2 核验'), ('rest', '接口核验'), ('held', '平台已有此证')], max_length=8)),
                        ('status', models.CharField(choices=[('pending', '待审核'), ('verified', '已核验'), ('approved', '已通过'), ('refused', '未通过'), ('failed', '核验失败'), ('withdrawn', '已撤回')], db_index=True, max_length=10)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_by', models.CharField(blank=True, max_length=40)),
                        ('decision_note', models.CharField(blank=True, max_length=200)),
                        ('card', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='link_requests', to='cards.card')),
                        ('library', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='card_link_requests', to='libraries.library')),
                        ('reader', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='link_requests', to='readers.reader')),
                    ],
                    options={
                        'db_table': 'readers_cardlinkrequest',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='CardSeries',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('last_number', models.PositiveBigIntegerField(default=0)),
                        ('library', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='card_series', to='libraries.library')),
                    ],
                    options={
                        'db_table': 'readers_cardseries',
                    },
                ),
                migrations.CreateModel(
                    name='ManualReview',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('message', models.CharField(blank=True, max_length=300, verbose_name='读者说明')),
                        ('refusal_reason', models.CharField(blank=True, max_length=20)),
                        ('status', models.CharField(choices=[('pending', '待审核'), ('approved', '已通过'), ('refused', '未通过'), ('used', '已办证'), ('withdrawn', '已撤回')], db_index=True, default='pending', max_length=10)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_by', models.CharField(blank=True, max_length=40)),
                        ('decided_by_label', models.CharField(blank=True, max_length=120)),
                        ('decision_note', models.CharField(blank=True, max_length=200, verbose_name='审核意见')),
                        ('card', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reviews', to='cards.card')),
                        ('library', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='card_reviews', to='libraries.library')),
                        ('reader', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='card_reviews', to='readers.reader')),
                    ],
                    options={
                        'db_table': 'readers_manualreview',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='card',
                    constraint=models.UniqueConstraint(fields=('library', 'number'), name='card_number_per_library'),
                ),
                migrations.AddConstraint(
                    model_name='card',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'cancelled'), _negated=True), fields=('reader', 'library'), name='one_open_card_per_reader_library'),
                ),
                migrations.AddConstraint(
                    model_name='card',
                    constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['credit', 'deposit', 'existing'])), name='card_kind_valid'),
                ),
                migrations.AddConstraint(
                    model_name='card',
                    constraint=models.CheckConstraint(condition=models.Q(('status__in', ['active', 'suspended', 'cancelled'])), name='card_status_valid'),
                ),
                migrations.AddConstraint(
                    model_name='cardlinkrequest',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('reader', 'library'), name='one_pending_link_request'),
                ),
                migrations.AddConstraint(
                    model_name='manualreview',
                    constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['pending', 'approved'])), fields=('reader', 'library'), name='one_open_review_per_library'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
