// Gold rush, C++: steps in a random direction that is not a wall.
//
// Each turn the client sends one line:
//   ME NB_PLAYERS TURNS_LEFT HEIGHT WIDTH GRID, then ROW COL SCORE per player
// GRID is HEIGHT*WIDTH cells row by row: '#' wall, '.' floor, 'o' coin.
// The answer is one line: U, D, L or R (one step) or S (stay).
// The input ends with the game.
#include <iostream>
#include <random>
#include <string>
#include <vector>

int main()
{
    const std::string names = "UDLR";
    const int drow[4] = {-1, 1, 0, 0};
    const int dcol[4] = {0, 0, -1, 1};
    std::mt19937 rng(std::random_device{}());
    int me, nb_players, turns_left, height, width;
    std::string grid;
    while (std::cin >> me >> nb_players >> turns_left >> height >> width >> grid) {
        int row = 0, col = 0;
        for (int p = 0; p < nb_players; p++) {
            int r, c, score;
            std::cin >> r >> c >> score;
            if (p == me) {
                row = r;
                col = c;
            }
        }
        std::vector<char> choices;
        for (int d = 0; d < 4; d++) {
            int r = row + drow[d], c = col + dcol[d];
            if (r >= 0 && r < height && c >= 0 && c < width && grid[r * width + c] != '#')
                choices.push_back(names[d]);
        }
        // std::endl flushes: the answer leaves at once.
        std::cout << (choices.empty() ? 'S' : choices[rng() % choices.size()]) << std::endl;
    }
}
