package bot

// ReadBackIDs makes d read the ids of the delivery rows it writes back
// instead of taking those the INSERT returns: MySQL's path (no RETURNING),
// tested on every database.
func ReadBackIDs(d *Deliverer) { d.readBack = true }
