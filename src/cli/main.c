#include <stdio.h>
#include "lw.h"
int main(void) { puts("learnware"); return 0; }
