"""The Directory page: affiliates, products and offers, with dialogs to add and edit them."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from leaddesk.core.clock import to_local
from leaddesk.errors import InputError, LeadDeskError
from leaddesk.services import directory, offer_secrets, offer_sharing
from leaddesk.storage.database import Database
from leaddesk.storage.models import Affiliate, Offer, Product
from leaddesk.ui.offer_editor import OfferEditor
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
OFFER_FILES = "Offer files (*.json);;All files (*)"
DATE_FORMAT = "%Y-%m-%d"
ERROR_STYLE = "color: #b3261e;"


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


def imported_text(offer_name: str, secrets: list[str]) -> str:
    text = f"The offer '{offer_name}' was added."
    if secrets:
        text += " Enter its secrets with Edit… before sending: " + "; ".join(secrets) + "."
    return text


def exported_text(offer_name: str, path: str, left_out: list[str]) -> str:
    text = f"The offer '{offer_name}' was exported to {path}."
    if left_out:
        text += (
            " Its secrets were left out; whoever imports it enters them: "
            + "; ".join(left_out)
            + "."
        )
    return text


def offer_file_name(offer_name: str) -> str:
    """A file name for an exported offer: its name with only safe characters."""
    safe = re.sub(r"[^\w.-]+", "-", offer_name).strip("-.") or "offer"
    return f"{safe}{offer_sharing.FILE_SUFFIX}"


def _added(moment) -> str:
    return to_local(moment).strftime(DATE_FORMAT) if moment else ""


class _Section(QGroupBox):
    """A titled table with an Add and an Edit button under it, and any more it is given."""

    def __init__(self, title: str, model: PlainTableModel, edit_text: str) -> None:
        super().__init__(title)
        self.table: QTableView = make_table_view(model)
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton(edit_text)
        self._for_selected = [self.edit_button]
        self.table.selectionModel().selectionChanged.connect(self.update_buttons)
        self.table.doubleClicked.connect(self.edit_button.click)

        self._buttons = QHBoxLayout()
        self._buttons.addWidget(self.add_button)
        self._buttons.addWidget(self.edit_button)
        self._buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._buttons)
        self.update_buttons()

    def add_extra_button(self, text: str, for_selected: bool = False) -> QPushButton:
        """One more button at the right; one `for_selected` is enabled only with a selection."""
        button = QPushButton(text)
        self._buttons.addWidget(button)
        if for_selected:
            self._for_selected.append(button)
        self.update_buttons()
        return button

    def selected_id(self) -> int | None:
        return selected_id(self.table)

    @Slot()
    def update_buttons(self) -> None:
        chosen = self.selected_id() is not None
        for button in self._for_selected:
            button.setEnabled(chosen)


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
        self.import_button = self.offers.add_extra_button("Import…")
        self.export_button = self.offers.add_extra_button("Export…", for_selected=True)
        self.import_button.clicked.connect(self._import_offer)
        self.export_button.clicked.connect(self._export_offer)

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
            section.update_buttons()

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

    def import_offer_file(self, path: Path, name: str | None = None) -> tuple[int, list[str]]:
        """Add the offer exported to `path`; returns its id and the secrets it still needs."""
        data = offer_sharing.read_offer_file(path)
        with self._database.writer() as session:
            offer = offer_sharing.import_offer(session, data, name)
            session.commit()
            config = directory.offer_config(offer)
            saved_id = offer.id
        self._saved(self.offers, saved_id)
        return saved_id, [offer_secrets.secret_label(config, n) for n in config.secret_names()]

    def export_offer_file(self, offer_id: int, path: Path) -> list[str]:
        """Write the offer to `path`, secrets left out; returns those left out, by label."""
        with self._database.session() as session:
            data = offer_sharing.export_offer(session, offer_id)
        try:
            path.write_text(offer_sharing.export_text(data), encoding="utf-8")
        except OSError as error:
            raise InputError(f"Cannot write {path}: {error.strerror or error}.") from error
        return [item["label"] for item in data["secrets_to_enter"]]

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

    def offer_dialog(self, offer_id: int | None = None) -> OfferEditor:
        """The offer editor, for a new offer (no id) or the one given."""
        editor = OfferEditor(self._database, offer_id, self)
        editor.saved.connect(self._offer_saved)
        return editor

    @Slot(int)
    def _offer_saved(self, offer_id: int) -> None:
        self._saved(self.offers, offer_id)

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
        offer_id = self.offers.selected_id()
        if offer_id is None:
            return
        try:
            editor = self.offer_dialog(offer_id)
        except LeadDeskError as error:
            # A configuration that no longer reads (edited by hand, say) is said, not a crash.
            QMessageBox.warning(self, "Edit offer", str(error))
            return
        editor.exec()

    @Slot()
    def _import_offer(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import offer", "", OFFER_FILES)
        if not path:
            return
        name = None
        while True:
            try:
                offer_id, secrets = self.import_offer_file(Path(path), name)
            except offer_sharing.OfferNameTaken as error:
                name, chosen = QInputDialog.getText(
                    self, "Import offer", f"{error}\n\nName of the imported offer:"
                )
                if not chosen:
                    return
                continue
            except LeadDeskError as error:
                QMessageBox.warning(self, "Import offer", str(error))
                return
            break
        with self._database.session() as session:
            offer_name = session.get_one(Offer, offer_id).name
        QMessageBox.information(self, "Import offer", imported_text(offer_name, secrets))

    @Slot()
    def _export_offer(self) -> None:
        offer_id = self.offers.selected_id()
        if offer_id is None:
            return
        offer_name = self.offers_model.cell_text(self.offers_model.row_of_id(offer_id), 0)
        path, _ = QFileDialog.getSaveFileName(
            self, "Export offer", offer_file_name(offer_name), OFFER_FILES
        )
        if not path:
            return
        try:
            left_out = self.export_offer_file(offer_id, Path(path))
        except LeadDeskError as error:
            QMessageBox.warning(self, "Export offer", str(error))
            return
        QMessageBox.information(self, "Export offer", exported_text(offer_name, path, left_out))

    @staticmethod
    def _open_for_selected(section, make_dialog) -> None:
        chosen = section.selected_id()
        if chosen is not None:
            make_dialog(chosen).exec()
