"""IoT edge: a button click arrives from AWS IoT Core, becomes a core service call, and its outcome goes back to the button."""
