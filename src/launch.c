/* launch: not written yet */
