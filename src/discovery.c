/* discovery: not written yet */
