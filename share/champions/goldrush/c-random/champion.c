/* Gold rush, C: steps in a random direction that is not a wall.
 *
 * Each turn the client sends one line:
 *   ME NB_PLAYERS TURNS_LEFT HEIGHT WIDTH GRID, then ROW COL SCORE per player
 * GRID is HEIGHT*WIDTH cells row by row: '#' wall, '.' floor, 'o' coin.
 * The answer is one line: U, D, L or R (one step) or S (stay).
 * The input ends with the game. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_CELLS (40 * 40)

static const char names[4] = {'U', 'D', 'L', 'R'};
static const int drow[4] = {-1, 1, 0, 0};
static const int dcol[4] = {0, 0, -1, 1};

int main(void)
{
    int me, nb_players, turns_left, height, width;
    static char grid[MAX_CELLS + 1];

    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (scanf("%d %d %d %d %d %1600s", &me, &nb_players, &turns_left, &height, &width,
                 grid) == 6) {
        int row = 0, col = 0;
        for (int p = 0; p < nb_players; p++) {
            int r, c, score;
            if (scanf("%d %d %d", &r, &c, &score) != 3)
                return 1;
            if (p == me) {
                row = r;
                col = c;
            }
        }
        char choices[4];
        int nb_choices = 0;
        for (int d = 0; d < 4; d++) {
            int r = row + drow[d], c = col + dcol[d];
            if (r >= 0 && r < height && c >= 0 && c < width && grid[r * width + c] != '#')
                choices[nb_choices++] = names[d];
        }
        printf("%c\n", nb_choices ? choices[rand() % nb_choices] : 'S');
    }
    return 0;
}
