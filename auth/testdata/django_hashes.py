#!/usr/bin/python3
"""Writes django_hashes.json: password hashes made by Django's own hashers.

The Go tests of auth read the JSON and need no Python. Regenerate with
Debian's packages (python3-django python3-argon2 python3-bcrypt):

    /usr/bin/python3 auth/testdata/django_hashes.py > auth/testdata/django_hashes.json

Each vector names the hasher, the password, the encoded hash as Django
stores it in the user table's password column, and a wrong password that
must not verify.
"""
import json
import sys

import django
from django.conf import settings

HASHERS = [
    'django.contrib.auth.hashers.PBKDF2PasswordHasher',
    'django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher',
    'django.contrib.auth.hashers.Argon2PasswordHasher',
    'django.contrib.auth.hashers.BCryptSHA256PasswordHasher',
    'django.contrib.auth.hashers.BCryptPasswordHasher',
]

settings.configure(PASSWORD_HASHERS=HASHERS, USE_TZ=True)
django.setup()

from django.contrib.auth.hashers import (  # noqa: E402
    Argon2PasswordHasher, check_password, identify_hasher, is_password_usable, make_password,
)
from django.utils.module_loading import import_string  # noqa: E402

PASSWORDS = [
    'SecurePass123!',
    'pässwörd with ünïcode ✓',
    # Longer than bcrypt's 72 bytes: bcrypt_sha256 hashes it first,
    # plain bcrypt only sees its first 72 bytes.
    'a long passphrase that goes on and on past the seventy-two bytes bcrypt reads, really',
]

vectors = []
for path in HASHERS:
    algorithm = import_string(path).algorithm
    for pw in PASSWORDS:
        encoded = make_password(pw, hasher=algorithm)
        assert identify_hasher(encoded).algorithm == algorithm
        wrong = 'x' + pw
        assert check_password(pw, encoded)
        assert not check_password(wrong, encoded)
        v = {'hasher': algorithm, 'password': pw, 'wrong': wrong, 'encoded': encoded}
        # What Django also accepts for this hash (plain bcrypt reads 72 bytes).
        if check_password(pw + 'x', encoded):
            v['also'] = pw + 'x'
        vectors.append(v)

# Django before 3.2 made argon2i hashes with small parameters; such hashes
# are still in databases whose users have not signed in since.
class LegacyArgon2Hasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 512
    parallelism = 2

    def params(self):
        argon2 = self._load_library()
        return argon2.Parameters(
            type=argon2.low_level.Type.I, version=argon2.low_level.ARGON2_VERSION, salt_len=argon2.DEFAULT_RANDOM_SALT_LENGTH,
            hash_len=argon2.DEFAULT_HASH_LENGTH, time_cost=self.time_cost, memory_cost=self.memory_cost,
            parallelism=self.parallelism)


legacy = LegacyArgon2Hasher()
encoded = legacy.encode(PASSWORDS[0], legacy.salt())
assert encoded.startswith('argon2$argon2i$v=19$m=512,t=2,p=2$'), encoded
assert check_password(PASSWORDS[0], encoded) and not check_password('x' + PASSWORDS[0], encoded)
vectors.append({'hasher': 'argon2 (argon2i, before Django 3.2)', 'password': PASSWORDS[0], 'wrong': 'x' + PASSWORDS[0],
                'encoded': encoded})

unusable = make_password(None)
assert not is_password_usable(unusable)
vectors.append({'hasher': 'unusable', 'password': '', 'wrong': 'SecurePass123!', 'encoded': unusable})

json.dump({'django': django.get_version(), 'vectors': vectors}, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write('\n')
