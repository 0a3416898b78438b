"""IoT edge: a click arrives from AWS IoT Core, becomes a core service call; its outcome goes back to the button."""
