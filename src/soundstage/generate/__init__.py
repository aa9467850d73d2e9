"""Generation: takes (stills and clips) made by backends (previs, diffusers, comfyui, and their video
siblings diffusers_video and comfyui_video) from recipes, and the queue that runs them."""
