def board_link(request):
    """Whether the menu links to the board's statistics (board.access)."""
    from .access import sees_board_statistics

    return {"board_statistics_open": lambda: sees_board_statistics(request.user)}
