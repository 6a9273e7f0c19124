"""Catalog import from the operator console: upload, result page, re-import updates in place."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xinyue.catalog.models import Offer, Title
from xinyue.catalog.tests.portal_data import new_isbn, supplier

HEADER = "isbn,title,authors,publisher,year,category,list_price,stock,summary\n"


def csv_file(text: str, name: str = "books.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (HEADER + text).encode("utf-8"), content_type="text/csv")


@pytest.mark.django_db
def test_upload_shows_created_updated_and_rejected(logged_in, operator_user, categories):
    client = logged_in(operator_user)
    zj = supplier()
    good_1, good_2, valid = new_isbn(), new_isbn(), new_isbn()
    bad = valid[:-1] + str((int(valid[-1]) + 1) % 10)  # wrong check digit
    assert client.get("/console/catalog/import/").status_code == 200
    response = client.post(
        "/console/catalog/import/",
        {
            "supplier": zj.pk,
            "file": csv_file(
                f"{good_1},活着,余华,作家出版社,2012,中国现当代小说,20.00,8,\n"
                f"{good_2},第七天,余华,新星出版社,2013,中国现当代小说,29.80,3,\n"
                f"{bad},坏记录,某人,某社,2013,文学,10.00,1,\n"
            ),
        },
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.created, result.updated, len(result.rejected)) == (2, 0, 1)
    html = response.content.decode()
    assert 'id="import-result"' in html
    assert bad in html
    assert result.rejected[0].reason in html
    assert Title.objects.get(isbn13=good_1).title == "活着"

    again = client.post(
        "/console/catalog/import/",
        {
            "supplier": zj.pk,
            "file": csv_file(f"{good_1},活着,余华,作家出版社,2012,中国现当代小说,20.00,2,\n"),
        },
    )
    result = again.context["result"]
    assert (result.created, result.updated, len(result.rejected)) == (0, 1, 0)
    assert Offer.objects.get(title__isbn13=good_1).stock == 2
    assert Title.objects.filter(isbn13=good_1).count() == 1


@pytest.mark.django_db
def test_a_file_of_the_wrong_kind_is_refused(logged_in, operator_user, categories):
    client = logged_in(operator_user)
    response = client.post(
        "/console/catalog/import/",
        {"supplier": supplier().pk, "file": SimpleUploadedFile("books.pdf", b"%PDF-1.4")},
    )
    assert response.status_code == 422
    assert "不支持的文件类型" in response.content.decode()
    assert Title.objects.count() == 0
