#include "api.h"

void init_game(void) {}

/* Plays the first free cell, row by row. */
void play_turn(void)
{
    for (int x = 0; x < BOARD_SIDE_SIZE; x++)
        for (int y = 0; y < BOARD_SIDE_SIZE; y++)
            if (play((position){x, y}) == OK)
                return;
}

void end_game(void) {}
