/* pyproject.c - placeholder until implemented. */
typedef int pyproject_placeholder;
