"""Generation: takes made by backends (previs, diffusers, comfyui) from recipes, and the queue that runs them."""
