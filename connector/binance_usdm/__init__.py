"""connector/binance_usdm: Binance USDⓈ-M perpetual futures."""
