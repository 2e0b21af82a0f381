/* pkgdeps.c - placeholder until implemented. */
typedef int pkgdeps_placeholder;
