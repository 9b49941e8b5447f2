"""Protocol views of the devices' point model: each turns the same points into one protocol's messages."""
