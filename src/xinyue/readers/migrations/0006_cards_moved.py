# The card models moved to the cards app with their tables (readers_card, readers_cardevent,
# readers_cardseries, readers_cardlinkrequest, readers_manualreview): the readers app lets go of
# them in Django's state only; no table or row changes.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('readers', '0005_alter_manualreview_status'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='card',
                    name='library',
                ),
                migrations.RemoveField(
                    model_name='card',
                    name='reader',
                ),
                migrations.RemoveField(
                    model_name='cardlinkrequest',
                    name='card',
                ),
                migrations.RemoveField(
                    model_name='manualreview',
                    name='card',
                ),
                migrations.RemoveField(
                    model_name='cardlinkrequest',
                    name='library',
                ),
                migrations.RemoveField(
                    model_name='cardlinkrequest',
                    name='reader',
                ),
                migrations.RemoveField(
                    model_name='cardseries',
                    name='library',
                ),
                migrations.RemoveField(
                    model_name='manualreview',
                    name='library',
                ),
                migrations.RemoveField(
                    model_name='manualreview',
                    name='reader',
                ),
                migrations.DeleteModel(
                    name='CardEvent',
                ),
                migrations.DeleteModel(
                    name='Card',
                ),
                migrations.DeleteModel(
                    name='CardLinkRequest',
                ),
                migrations.DeleteModel(
                    name='CardSeries',
                ),
                migrations.DeleteModel(
                    name='ManualReview',
                ),
            ],
            database_operations=[],
        ),
    ]
