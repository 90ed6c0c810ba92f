#include "api.hh"

void init_game() {}

/// Plays the last free cell, row by row from the bottom.
void play_turn()
{
    for (int x = BOARD_SIDE_SIZE - 1; x >= 0; x--)
        for (int y = BOARD_SIDE_SIZE - 1; y >= 0; y--)
            if (play({x, y}) == error::OK)
                return;
}

void end_game() {}
