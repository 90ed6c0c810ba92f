/* Gold rush, C: walks the shortest path to the nearest coin.
 *
 * Each turn the client sends one line:
 *   ME NB_PLAYERS TURNS_LEFT HEIGHT WIDTH GRID, then ROW COL SCORE per player
 * GRID is HEIGHT*WIDTH cells row by row: '#' wall, '.' floor, 'o' coin.
 * The answer is one line: U, D, L or R (one step) or S (stay).
 * The input ends with the game. */
#include <stdio.h>

#define MAX_CELLS (40 * 40)

static const char names[4] = {'U', 'D', 'L', 'R'};
static const int drow[4] = {-1, 1, 0, 0};
static const int dcol[4] = {0, 0, -1, 1};

/* Breadth-first search from `start`: the first step towards the nearest
 * coin, or 'S' when no coin can be reached. */
static char first_step(const char *grid, int height, int width, int start)
{
    static int queue[MAX_CELLS];
    static char step[MAX_CELLS]; /* the first move on the way to each cell */
    static int seen[MAX_CELLS];
    static int search = 0;
    int head = 0, tail = 0;

    search++;
    queue[tail++] = start;
    seen[start] = search;
    while (head < tail) {
        int cell = queue[head++];
        if (grid[cell] == 'o' && cell != start)
            return step[cell];
        for (int d = 0; d < 4; d++) {
            int r = cell / width + drow[d], c = cell % width + dcol[d];
            int next = r * width + c;
            if (r < 0 || r >= height || c < 0 || c >= width || grid[next] == '#'
                || seen[next] == search)
                continue;
            seen[next] = search;
            step[next] = cell == start ? names[d] : step[cell];
            queue[tail++] = next;
        }
    }
    return 'S';
}

int main(void)
{
    int me, nb_players, turns_left, height, width;
    static char grid[MAX_CELLS + 1];

    setvbuf(stdout, NULL, _IOLBF, 0);
    while (scanf("%d %d %d %d %d %1600s", &me, &nb_players, &turns_left, &height, &width,
                 grid) == 6) {
        int start = 0;
        for (int p = 0; p < nb_players; p++) {
            int r, c, score;
            if (scanf("%d %d %d", &r, &c, &score) != 3)
                return 1;
            if (p == me)
                start = r * width + c;
        }
        printf("%c\n", first_step(grid, height, width, start));
    }
    return 0;
}
