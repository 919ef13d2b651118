"""Audio: WAV I/O, the MFCC front end and augmentation."""
