"""Answer generation: one interface, three backends chosen by FINASSIST_GENERATION_BACKEND."""
