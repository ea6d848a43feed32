from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "board"
    verbose_name = "Board statistics"

    def ready(self):
        from files.stored import StoredKind, kind_register

        # Quarterly reports are private files: swept and checked like the rest.
        kind_register(
            StoredKind(name="board_report", model="board.BoardReport",
                       prefix="board-reports", hash_field="sha256")
        )  # fmt: skip
