"""The organisers' web pages: reading the archive in a browser (archive/web) and, added by
bot/web, hosting (queueing chats, welcomes, opt-outs). See archive/web/app.py."""
