// Gold rush, C++: walks the shortest path to the nearest coin.
//
// Each turn the client sends one line:
//   ME NB_PLAYERS TURNS_LEFT HEIGHT WIDTH GRID, then ROW COL SCORE per player
// GRID is HEIGHT*WIDTH cells row by row: '#' wall, '.' floor, 'o' coin.
// The answer is one line: U, D, L or R (one step) or S (stay).
// The input ends with the game.
#include <deque>
#include <iostream>
#include <string>
#include <vector>

namespace {

const std::string names = "UDLR";
const int drow[4] = {-1, 1, 0, 0};
const int dcol[4] = {0, 0, -1, 1};

// Breadth-first search from `start`: the first step towards the nearest
// coin, or 'S' when no coin can be reached.
char first_step(const std::string& grid, int height, int width, int start)
{
    std::vector<char> step(grid.size(), 0); // the first move on the way to each cell
    std::vector<bool> seen(grid.size(), false);
    std::deque<int> queue{start};
    seen[start] = true;
    while (!queue.empty()) {
        int cell = queue.front();
        queue.pop_front();
        if (grid[cell] == 'o' && cell != start)
            return step[cell];
        for (int d = 0; d < 4; d++) {
            int r = cell / width + drow[d], c = cell % width + dcol[d];
            int next = r * width + c;
            if (r < 0 || r >= height || c < 0 || c >= width || grid[next] == '#' || seen[next])
                continue;
            seen[next] = true;
            step[next] = cell == start ? names[d] : step[cell];
            queue.push_back(next);
        }
    }
    return 'S';
}

} // namespace

int main()
{
    int me, nb_players, turns_left, height, width;
    std::string grid;
    while (std::cin >> me >> nb_players >> turns_left >> height >> width >> grid) {
        int start = 0;
        for (int p = 0; p < nb_players; p++) {
            int r, c, score;
            std::cin >> r >> c >> score;
            if (p == me)
                start = r * width + c;
        }
        std::cout << first_step(grid, height, width, start) << std::endl;
    }
}
