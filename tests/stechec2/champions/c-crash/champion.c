#include "api.h"

void init_game(void) {}

/* Dereferences a null pointer on its first turn: its client dies of SIGSEGV. */
void play_turn(void)
{
    *(volatile int *)0 = 1;
}

void end_game(void) {}
