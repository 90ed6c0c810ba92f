/* Tic-tac-toe, C: plays a random free cell.
 *
 * Each turn the client sends one line, "ME BOARD": ME is 0 or 1 (player 0
 * moves first), BOARD the 9 cells row by row, '.' free, '0' or '1' taken.
 * The answer is one line, "ROW COL" (0 to 2). The input ends with the game. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    int me;
    char board[10];

    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    /* One line per answer, sent at once (stdout is a pipe, not a terminal). */
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (scanf("%d %9s", &me, board) == 2) {
        int free_cells[9], nb_free = 0;
        for (int i = 0; i < 9; i++)
            if (board[i] == '.')
                free_cells[nb_free++] = i;
        int cell = free_cells[rand() % nb_free];
        printf("%d %d\n", cell / 3, cell % 3);
    }
    return 0;
}
