/* Tic-tac-toe, C: plays perfectly (full minimax search), so it never loses.
 *
 * Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
 * moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
 * The answer is one line, "ROW COL" (0 to 2). The input ends with the game. */
#include <stdio.h>

static const int lines[8][3] = {
    {0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
    {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6},
};

static int wins(const char *board, char mark)
{
    for (int i = 0; i < 8; i++)
        if (board[lines[i][0]] == mark && board[lines[i][1]] == mark
            && board[lines[i][2]] == mark)
            return 1;
    return 0;
}

/* The value of the board for the player with `mark` to move: 1 win, 0 draw,
 * -1 loss, with perfect play on both sides. */
static int minimax(char *board, char mark, char other, int *best_cell)
{
    int best = -2;
    for (int cell = 0; cell < 9; cell++) {
        if (board[cell] != '.')
            continue;
        board[cell] = mark;
        int value = wins(board, mark) ? 1 : -minimax(board, other, mark, NULL);
        board[cell] = '.';
        if (value > best) {
            best = value;
            if (best_cell)
                *best_cell = cell;
        }
    }
    return best == -2 ? 0 : best; /* no free cell: a draw */
}

int main(void)
{
    int me;
    char board[10];

    setvbuf(stdout, NULL, _IOLBF, 0);
    while (scanf("%d %9s", &me, board) == 2) {
        int cell = -1;
        minimax(board, (char)('0' + me), (char)('0' + 1 - me), &cell);
        printf("%d %d\n", cell / 3, cell % 3);
    }
    return 0;
}
