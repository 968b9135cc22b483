"""The Directory page: affiliates, products and offers, with dialogs to add and edit them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from leaddesk.core.clock import to_local
from leaddesk.errors import LeadDeskError
from leaddesk.services import directory
from leaddesk.storage.database import Database
from leaddesk.storage.models import Affiliate, Offer, Product
from leaddesk.ui.simple_table import (
    PlainRow,
    PlainTableModel,
    make_table_view,
    select_id,
    selected_id,
)

log = logging.getLogger(__name__)

NAMED_HEADERS = ("Name", "Added")
OFFER_HEADERS = ("Name", "Product", "Advertiser endpoint")
DATE_FORMAT = "%Y-%m-%d"
NO_PRODUCT = "(no product)"
ERROR_STYLE = "color: #b3261e;"
URL_PLACEHOLDER = "https://api.example.com/leads"


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _show_error(label: QLabel, message: str) -> None:
    label.setText(message)
    label.setVisible(bool(message))


def _ok_cancel() -> QDialogButtonBox:
    return QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )


class NameDialog(QDialog):
    """Asks one name; `save` stores it or raises LeadDeskError, shown under the field."""

    def __init__(
        self,
        window_title: str,
        label: str,
        name: str,
        save: Callable[[str], int],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(window_title)
        self._save = save
        self.saved_id: int | None = None
        self.name_edit = QLineEdit(name)
        self.name_error = _error_label()
        buttons = _ok_cancel()
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(label, self.name_edit)
        form.addRow("", self.name_error)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    def accept(self) -> None:
        try:
            self.saved_id = self._save(self.name_edit.text())
        except LeadDeskError as error:
            _show_error(self.name_error, str(error))
            return
        super().accept()


class OfferDialog(QDialog):
    """Asks an offer's name, product and endpoint, each problem shown under its field."""

    def __init__(
        self,
        window_title: str,
        products: list[tuple[int, str]],
        save: Callable[[str, str, int | None], int],
        name: str = "",
        url: str = "",
        product_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(window_title)
        self._save = save
        self.saved_id: int | None = None
        self.name_edit = QLineEdit(name)
        self.product_combo = QComboBox()
        self.product_combo.addItem(NO_PRODUCT, None)
        for each_id, each_name in products:
            self.product_combo.addItem(each_name, each_id)
        self.product_combo.setCurrentIndex(max(self.product_combo.findData(product_id), 0))
        self.url_edit = QLineEdit(url)
        self.url_edit.setPlaceholderText(URL_PLACEHOLDER)
        self.name_error = _error_label()
        self.url_error = _error_label()
        buttons = _ok_cancel()
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Offer name:", self.name_edit)
        form.addRow("", self.name_error)
        form.addRow("Product:", self.product_combo)
        form.addRow("Advertiser endpoint:", self.url_edit)
        form.addRow("", self.url_error)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def accept(self) -> None:
        name_problem = _problem(lambda: directory.clean_name(self.name_edit.text(), "offer"))
        url_problem = _problem(lambda: directory.check_url(self.url_edit.text()))
        _show_error(self.name_error, name_problem)
        _show_error(self.url_error, url_problem)
        if name_problem or url_problem:
            return
        try:
            self.saved_id = self._save(
                self.name_edit.text(), self.url_edit.text(), self.product_combo.currentData()
            )
        except LeadDeskError as error:
            _show_error(self.name_error, str(error))
            return
        super().accept()


def _problem(check: Callable[[], object]) -> str:
    try:
        check()
    except LeadDeskError as error:
        return str(error)
    return ""


def _added(moment) -> str:
    return to_local(moment).strftime(DATE_FORMAT) if moment else ""


class _Section(QGroupBox):
    """A titled table with an Add and an Edit button under it."""

    def __init__(self, title: str, model: PlainTableModel, edit_text: str) -> None:
        super().__init__(title)
        self.table: QTableView = make_table_view(model)
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton(edit_text)
        self.edit_button.setEnabled(False)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self.edit_button.click)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def selected_id(self) -> int | None:
        return selected_id(self.table)

    @Slot()
    def _update_buttons(self) -> None:
        self.edit_button.setEnabled(self.selected_id() is not None)


class DirectoryPage(QWidget):
    """Affiliates, products and offers side by side."""

    directory_changed = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._products: list[tuple[int, str]] = []
        self.affiliates_model = PlainTableModel(NAMED_HEADERS, parent=self)
        self.products_model = PlainTableModel(NAMED_HEADERS, parent=self)
        self.offers_model = PlainTableModel(OFFER_HEADERS, parent=self)
        self.affiliates = _Section("Affiliates", self.affiliates_model, "Rename…")
        self.products = _Section("Products", self.products_model, "Rename…")
        self.offers = _Section("Offers", self.offers_model, "Edit…")

        self.affiliates.add_button.clicked.connect(self._add_affiliate)
        self.affiliates.edit_button.clicked.connect(self._rename_affiliate)
        self.products.add_button.clicked.connect(self._add_product)
        self.products.edit_button.clicked.connect(self._rename_product)
        self.offers.add_button.clicked.connect(self._add_offer)
        self.offers.edit_button.clicked.connect(self._edit_offer)

        layout = QHBoxLayout(self)
        layout.addWidget(self.affiliates, 1)
        layout.addWidget(self.products, 1)
        layout.addWidget(self.offers, 2)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Read affiliates, products and offers again, keeping each selection."""
        with self._database.session() as session:
            affiliates = [
                PlainRow(a.id, (a.name, _added(a.created_at)))
                for a in directory.all_of(session, Affiliate)
            ]
            products = [
                PlainRow(p.id, (p.name, _added(p.created_at)))
                for p in directory.all_of(session, Product)
            ]
            offers = [
                PlainRow(o.id, (o.name, o.product.name if o.product else "", o.url))
                for o in directory.all_of(session, Offer)
            ]
        self._products = [(row.id, row.cells[0]) for row in products]
        for section, rows in (
            (self.affiliates, affiliates),
            (self.products, products),
            (self.offers, offers),
        ):
            chosen = section.selected_id()
            section.table.model().set_rows(rows)
            select_id(section.table, chosen)
            section.edit_button.setEnabled(section.selected_id() is not None)

    # Saving --------------------------------------------------------------------------------

    def save_affiliate(self, affiliate_id: int | None, name: str) -> int:
        """Add an affiliate (no id) or rename one; raises InputError for an unusable name."""
        with self._database.writer() as session:
            if affiliate_id is None:
                affiliate = directory.add_affiliate(session, name)
            else:
                affiliate = directory.rename_affiliate(session, affiliate_id, name)
            session.commit()
            saved_id = affiliate.id
        self._saved(self.affiliates, saved_id)
        return saved_id

    def save_product(self, product_id: int | None, name: str) -> int:
        with self._database.writer() as session:
            if product_id is None:
                product = directory.add_product(session, name)
            else:
                product = directory.rename_product(session, product_id, name)
            session.commit()
            saved_id = product.id
        self._saved(self.products, saved_id)
        return saved_id

    def save_offer(self, offer_id: int | None, name: str, url: str, product_id: int | None) -> int:
        with self._database.writer() as session:
            if offer_id is None:
                offer = directory.add_offer(session, name, url, product_id)
            else:
                offer = directory.update_offer(session, offer_id, name, url, product_id)
            session.commit()
            saved_id = offer.id
        self._saved(self.offers, saved_id)
        return saved_id

    def _saved(self, section: _Section, saved_id: int) -> None:
        self.refresh()
        select_id(section.table, saved_id)
        self.directory_changed.emit()

    # Dialogs -------------------------------------------------------------------------------

    def affiliate_dialog(self, affiliate_id: int | None = None) -> NameDialog:
        return self._name_dialog(
            "affiliate", self.affiliates_model, affiliate_id, self.save_affiliate
        )

    def product_dialog(self, product_id: int | None = None) -> NameDialog:
        return self._name_dialog("product", self.products_model, product_id, self.save_product)

    def _name_dialog(
        self,
        what: str,
        model: PlainTableModel,
        row_id: int | None,
        save: Callable[[int | None, str], int],
    ) -> NameDialog:
        row = model.row_of_id(row_id) if row_id is not None else None
        name = model.cell_text(row, 0) if row is not None else ""
        title = f"Rename {what}" if row_id is not None else f"Add {what}"
        return NameDialog(
            title, f"{what.capitalize()} name:", name, lambda text: save(row_id, text), self
        )

    def offer_dialog(self, offer_id: int | None = None) -> OfferDialog:
        if offer_id is None:
            return OfferDialog("Add offer", self._products, self._new_offer, parent=self)
        with self._database.session() as session:
            offer = session.get_one(Offer, offer_id)
            name, url, product_id = offer.name, offer.url, offer.product_id
        return OfferDialog(
            "Edit offer",
            self._products,
            lambda n, u, p: self.save_offer(offer_id, n, u, p),
            name=name,
            url=url,
            product_id=product_id,
            parent=self,
        )

    def _new_offer(self, name: str, url: str, product_id: int | None) -> int:
        return self.save_offer(None, name, url, product_id)

    @Slot()
    def _add_affiliate(self) -> None:
        self.affiliate_dialog().exec()

    @Slot()
    def _rename_affiliate(self) -> None:
        self._open_for_selected(self.affiliates, self.affiliate_dialog)

    @Slot()
    def _add_product(self) -> None:
        self.product_dialog().exec()

    @Slot()
    def _rename_product(self) -> None:
        self._open_for_selected(self.products, self.product_dialog)

    @Slot()
    def _add_offer(self) -> None:
        self.offer_dialog().exec()

    @Slot()
    def _edit_offer(self) -> None:
        self._open_for_selected(self.offers, self.offer_dialog)

    @staticmethod
    def _open_for_selected(section, make_dialog) -> None:
        chosen = section.selected_id()
        if chosen is not None:
            make_dialog(chosen).exec()
