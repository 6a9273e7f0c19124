"""Catalog import: MARC / CSV / XLSX files from a supplier, record by record.

Every record is validated (ISBN checksum, title present, price and year sane, known category);
a bad record is rejected with its reasons and the batch goes on; a title already in the catalog
(same ISBN-13) is updated in place, and the supplier's offer (stock, price) is created or
updated. The search index changes in the same transaction as the titles.

``import_catalog`` serves both the ``import-catalog`` command and the operator console's upload
page; it returns an ``ImportResult`` to show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

from django.db import transaction

from xinyue.catalog.importers import RawRecord, UnreadableFile, detect_format, read_records
from xinyue.catalog.importers.clc import category_for_clc
from xinyue.catalog.models import Category, Offer, Title
from xinyue.catalog.search.backends import get_backend
from xinyue.catalog.search.isbn import isbn_problem, parse_isbn
from xinyue.catalog.search.plan import build_document, docid
from xinyue.catalog.services.indexing import catalog_changed, index_titles
from xinyue.catalog.services.offers import stock_came_back
from xinyue.core import audit, clock
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.money import yuan_to_fen
from xinyue.core.permissions import require_supplier
from xinyue.suppliers.models import Supplier

CHUNK = 500  # records per transaction
MAX_LIST_PRICE_FEN = 10_000_00  # ten thousand yuan
MAX_STOCK = 1_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024

_YEAR = re.compile(r"(1[4-9]\d\d|20\d\d)")
_INT = re.compile(r"\d+")
_NATIONALITY = re.compile(r"^\s*[\[［(（【〔][^\]］)）】〕]{1,6}[\]］)）】〕]\s*")
_ROLE = re.compile(
    r"[\s,，]*(?:原著|编著|主编|副主编|编译|翻译|改编|合著|等著|等编|译注|校注|整理|选编|等|著|编|译|绘|撰|注)\s*$"
)
_AUTHOR_SPLIT = re.compile(r"\s*[;；]\s*")


@dataclass
class TitleData:
    """A validated record, ready to be stored."""

    isbn13: str
    isbn10: str
    title: str
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    publisher: str = ""
    year: int | None = None
    edition: str = ""
    pages: int | None = None
    list_price_fen: int = 0
    category_id: int | None = None
    clc_class: str = ""
    subjects: str = ""
    summary: str = ""
    cover: str = ""
    stock: int | None = None  # None: leave the offer's stock as it is (0 for a new offer)
    price_fen: int | None = None  # None: the list price
    popularity: int = 0  # only for bulk loads (imports never change popularity)

    @property
    def authors_display(self) -> str:
        return "、".join(self.authors)[:300]


@dataclass
class Rejection:
    position: str
    isbn: str
    title: str
    reasons: list[str]

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


@dataclass
class ImportResult:
    filename: str
    format: str
    supplier_code: str
    created: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    title_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + len(self.rejected)


def clean_author(name: str) -> str:
    """ "(日)东野圭吾 著" → "东野圭吾"; "Matthes, Eric" stays as it is."""
    name = _NATIONALITY.sub("", (name or "").strip())
    stripped = _ROLE.sub("", name).strip()
    if len(stripped) < 2:  # "王编" is a name, not 王 + a role
        stripped = name
    return stripped.strip(" ,，.;；")[:100]


def clean_authors(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in names:
        for part in _AUTHOR_SPLIT.split(raw or ""):
            name = clean_author(part)
            if name and name not in out:
                out.append(name)
    return out[:20]


def category_index() -> dict[str, int]:
    return dict(Category.objects.values_list("name", "id"))


def validate_record(
    raw: RawRecord, *, categories: dict[str, int], default_category: str | None = None
) -> tuple[TitleData | None, list[str]]:
    """The record as ``TitleData``, or None and the reasons it is rejected."""
    if raw.error:
        return None, [raw.error]
    reasons: list[str] = []
    problem = isbn_problem(raw.isbn)
    isbn = parse_isbn(raw.isbn) if problem is None else None
    if problem:
        reasons.append(problem)
    title = " ".join((raw.title or "").split())
    if not title:
        reasons.append("缺少题名")
    elif len(title) > 300:
        reasons.append("题名过长（最多 300 字）")
    publisher = " ".join((raw.publisher or "").split())
    if len(publisher) > 120:
        reasons.append("出版社名称过长（最多 120 字）")

    year = None
    if raw.year.strip():
        match = _YEAR.search(raw.year)
        year = int(match.group(1)) if match else None
        if year is None or year > clock.today().year + 1:
            reasons.append(f"出版年不合理（{raw.year.strip()[:20]}）")
            year = None

    list_price_fen = 0
    if not raw.list_price.strip():
        reasons.append("缺少定价")
    else:
        try:
            list_price_fen = yuan_to_fen(raw.list_price.replace("CNY", "").replace("RMB", ""))
        except ValueError as exc:
            reasons.append(f"定价有误：{exc}")
        else:
            if not 0 < list_price_fen <= MAX_LIST_PRICE_FEN:
                reasons.append(f"定价不合理（{raw.list_price.strip()[:20]}）")

    price_fen = None
    if raw.price.strip():
        try:
            price_fen = yuan_to_fen(raw.price)
        except ValueError as exc:
            reasons.append(f"供货价有误：{exc}")

    stock = None
    if raw.stock.strip():
        text = raw.stock.strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not text.isdigit() or int(text) > MAX_STOCK:
            reasons.append(f"库存应为 0–{MAX_STOCK} 的整数（{raw.stock.strip()[:20]}）")
        else:
            stock = int(text)

    category_id = None
    name = raw.category.strip()
    if name:
        category_id = categories.get(name)
        if category_id is None and "›" in name:
            category_id = categories.get(name.rsplit("›", 1)[1].strip())
        if category_id is None:
            reasons.append(f"未知分类（{name[:40]}）")
    else:
        derived = category_for_clc(raw.clc_class) or default_category
        category_id = categories.get(derived) if derived else None
        if category_id is None:
            reasons.append("缺少分类（无分类名，也无法从中图法分类号确定）")

    pages = None
    if raw.pages.strip():
        match = _INT.search(raw.pages)
        if match and 0 < int(match.group(0)) < 100_000:
            pages = int(match.group(0))

    cover = (raw.cover or "").strip()
    if cover and not _is_web_url(cover):
        reasons.append(f"封面地址须为 http(s) 网址（{cover[:40]}）")

    if reasons or isbn is None:
        return None, reasons
    return (
        TitleData(
            isbn13=isbn.isbn13,
            isbn10=isbn.isbn10,
            title=title,
            subtitle=" ".join((raw.subtitle or "").split())[:300],
            authors=clean_authors(raw.authors),
            publisher=publisher,
            year=year,
            edition=raw.edition.strip()[:60],
            pages=pages,
            list_price_fen=list_price_fen,
            category_id=category_id,
            clc_class=raw.clc_class.strip()[:40],
            subjects="; ".join(s.strip() for s in raw.subjects if s.strip())[:500],
            summary=(raw.summary or "").strip()[:5000],
            cover=cover[:300],
            stock=stock,
            price_fen=price_fen,
        ),
        [],
    )


def _is_web_url(url: str) -> bool:
    """Only an absolute http(s) URL with a host may become a cover (never ``javascript:``,
    ``data:`` or a relative path that a page would resolve against our own site)."""
    parts = urlsplit(url)
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc) and url.isprintable()


_TITLE_FIELDS = (
    "isbn10",
    "title",
    "subtitle",
    "authors",
    "authors_display",
    "publisher",
    "year",
    "edition",
    "pages",
    "list_price_fen",
    "category_id",
    "clc_class",
    "subjects",
    "summary",
    "cover",
)


def _apply(title: Title, data: TitleData) -> bool:
    """Copy what the record says onto ``title`` (blank fields keep the stored value)."""
    changed = False
    for name in _TITLE_FIELDS:
        value = getattr(data, name)
        if value in ("", None, []) and name not in ("title",):
            continue
        if getattr(title, name) != value:
            setattr(title, name, value)
            changed = True
    return changed


def _store(data: TitleData, supplier: Supplier) -> tuple[Title, bool]:
    """Create or update the title and the supplier's offer. Returns (title, created)."""
    title = Title.objects.filter(isbn13=data.isbn13).first()
    created = title is None
    if created:
        title = Title(isbn13=data.isbn13)
        _apply(title, data)
        title.save()
    elif _apply(title, data):
        title.save()
    offer = Offer.objects.filter(supplier=supplier, title=title).first()
    price = data.price_fen if data.price_fen is not None else data.list_price_fen
    before = 0
    if offer is None:
        offer = Offer.objects.create(
            supplier=supplier, title=title, stock=data.stock or 0, price_fen=price
        )
    else:
        before = offer.stock if offer.is_active else 0
        offer.price_fen = price
        offer.is_active = True
        if data.stock is not None:
            offer.stock = data.stock
        offer.save(update_fields=["price_fen", "is_active", "stock", "updated_at"])
    if not created and offer.stock > before:
        stock_came_back(title_ids=[title.pk])  # wait-lists hear of it after the commit
    return title, created


def _chunks(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    chunk: list[RawRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_catalog(
    *,
    actor: Actor,
    supplier: Supplier,
    file: IO[bytes] | bytes,
    filename: str = "",
    fmt: str | None = None,
    default_category: str | None = None,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Import a catalog file for ``supplier``. Raises ``InvalidInput(fields={"file": …})`` when
    the file as a whole cannot be read; otherwise every record is created, updated or rejected."""
    require_supplier(actor, supplier.pk)
    data = file if isinstance(file, bytes) else file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(fields={"file": "文件过大（最大 200 MB）"})
    if default_category and default_category not in category_index():
        raise InvalidInput(fields={"default_category": f"未知分类（{default_category[:40]}）"})
    fmt = fmt or detect_format(data, filename)
    result = ImportResult(filename=filename, format=fmt, supplier_code=supplier.code)
    categories = category_index()
    try:
        records = read_records(data, filename, fmt)
        for chunk in _chunks(records, CHUNK):
            with transaction.atomic():
                touched: list[int] = []
                for raw in chunk:
                    title_data, reasons = validate_record(
                        raw, categories=categories, default_category=default_category
                    )
                    if title_data is None:
                        result.rejected.append(
                            Rejection(raw.position, raw.isbn.strip()[:20], raw.title[:60], reasons)
                        )
                        continue
                    title, created = _store(title_data, supplier)
                    touched.append(title.pk)
                    if created:
                        result.created += 1
                    else:
                        result.updated += 1
                index_titles(title_ids=touched)
                result.title_ids.extend(touched)
            if progress is not None:
                progress(result)
    except UnreadableFile as exc:
        if result.total == 0:
            raise InvalidInput(fields={"file": str(exc)}) from None
        result.rejected.append(Rejection("文件", "", "", [str(exc)]))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="catalog.imported",
            obj=supplier,
            filename=filename[:200],
            format=fmt,
            created=result.created,
            updated=result.updated,
            rejected=len(result.rejected),
        )
    return result


def bulk_add_titles(
    *,
    actor: Actor,
    supplier: Supplier,
    titles: Iterable[TitleData],
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    bulk: bool = False,
) -> int:
    """Insert many *new* titles (validated, ISBNs not yet in the catalog) with the supplier's
    offers, indexed, in batches — the demo catalog and the benchmarks load a million this way.
    ``bulk``: one transaction, and the search index built once at the end (for very large
    loads; the engine's index is rebuilt as a whole). Returns how many were added."""
    require_supplier(actor, supplier.pk)
    backend = get_backend()
    if bulk:
        with backend.bulk_load():
            return bulk_add_titles(
                actor=actor,
                supplier=supplier,
                titles=titles,
                batch_size=batch_size,
                progress=progress,
            )
    added = 0
    batch: list[TitleData] = []

    def flush() -> None:
        nonlocal added
        with transaction.atomic():
            created = Title.objects.bulk_create(
                [
                    Title(
                        isbn13=d.isbn13,
                        isbn10=d.isbn10,
                        title=d.title,
                        subtitle=d.subtitle,
                        authors=d.authors,
                        authors_display=d.authors_display,
                        publisher=d.publisher,
                        year=d.year,
                        edition=d.edition,
                        pages=d.pages,
                        list_price_fen=d.list_price_fen,
                        category_id=d.category_id,
                        clc_class=d.clc_class,
                        subjects=d.subjects,
                        summary=d.summary,
                        cover=d.cover,
                        popularity=d.popularity,
                    )
                    for d in batch
                ]
            )
            Offer.objects.bulk_create(
                [
                    Offer(
                        supplier=supplier,
                        title_id=t.pk,
                        stock=d.stock or 0,
                        price_fen=d.price_fen if d.price_fen is not None else d.list_price_fen,
                    )
                    for t, d in zip(created, batch, strict=True)
                ]
            )
            backend.insert_documents(
                (
                    t.pk,
                    docid(t.pk, d.popularity),
                    build_document(
                        title=d.title,
                        subtitle=d.subtitle,
                        authors=d.authors,
                        publisher=d.publisher,
                        subjects=d.subjects,
                        isbn13=d.isbn13,
                        isbn10=d.isbn10,
                        category_id=d.category_id,
                    ),
                )
                for t, d in zip(created, batch, strict=True)
            )
            catalog_changed()
        added += len(batch)
        batch.clear()
        if progress is not None:
            progress(added)

    for data in titles:
        batch.append(data)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if added:
        with transaction.atomic():
            audit.record(actor=actor, action="catalog.bulk_added", obj=supplier, titles=added)
    return added
