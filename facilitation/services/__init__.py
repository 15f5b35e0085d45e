"""The live room's decisions. The consumer hands every frame to one of these."""
