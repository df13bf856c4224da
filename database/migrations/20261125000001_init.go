package migrations

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Frozen copies of the first schema. Never edit them: add a migration.
type user0001 struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64      `bun:"id,pk,autoincrement"`
	Name          string     `bun:"name,notnull,type:varchar(150)"`
	Email         string     `bun:"email,notnull,type:varchar(254)"`
	PasswordHash  string     `bun:"password_hash,notnull,type:varchar(255)"`
	IsActive      bool       `bun:"is_active,notnull,default:true"`
	IsSuperuser   bool       `bun:"is_superuser,notnull,default:false"`
	DateJoined    time.Time  `bun:"date_joined,notnull"`
	LastLogin     *time.Time `bun:"last_login"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull"`
}

type refreshToken0001 struct {
	bun.BaseModel `bun:"table:refresh_tokens"`
	JTI           string     `bun:"jti,pk,type:varchar(64)"`
	FamilyID      string     `bun:"family_id,notnull,type:varchar(64)"`
	UserID        int64      `bun:"user_id,notnull"`
	ExpiresAt     time.Time  `bun:"expires_at,notnull"`
	UsedAt        *time.Time `bun:"used_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
}

type patient0001 struct {
	bun.BaseModel            `bun:"table:patients"`
	ID                       int64     `bun:"id,pk,autoincrement"`
	FirstName                string    `bun:"first_name,notnull,type:varchar(100)"`
	LastName                 string    `bun:"last_name,notnull,type:varchar(100)"`
	Email                    *string   `bun:"email,type:varchar(254)"`
	Phone                    string    `bun:"phone,notnull,type:varchar(16)"`
	DateOfBirth              time.Time `bun:"date_of_birth,notnull,type:date"`
	Gender                   string    `bun:"gender,notnull,type:varchar(1)"`
	BloodGroup               *string   `bun:"blood_group,type:varchar(3)"`
	Address                  *string   `bun:"address,type:text"`
	City                     *string   `bun:"city,type:varchar(100)"`
	State                    *string   `bun:"state,type:varchar(100)"`
	PostalCode               *string   `bun:"postal_code,type:varchar(20)"`
	Country                  *string   `bun:"country,type:varchar(100)"`
	MedicalHistory           *string   `bun:"medical_history,type:text"`
	Allergies                *string   `bun:"allergies,type:text"`
	CurrentMedications       *string   `bun:"current_medications,type:text"`
	EmergencyContactName     *string   `bun:"emergency_contact_name,type:varchar(200)"`
	EmergencyContactPhone    *string   `bun:"emergency_contact_phone,type:varchar(16)"`
	EmergencyContactRelation *string   `bun:"emergency_contact_relation,type:varchar(50)"`
	IsActive                 bool      `bun:"is_active,notnull,default:true"`
	CreatedBy                int64     `bun:"created_by,notnull"`
	CreatedAt                time.Time `bun:"created_at,notnull"`
	UpdatedAt                time.Time `bun:"updated_at,notnull"`
}

type doctor0001 struct {
	bun.BaseModel   `bun:"table:doctors"`
	ID              int64      `bun:"id,pk,autoincrement"`
	FirstName       string     `bun:"first_name,notnull,type:varchar(100)"`
	LastName        string     `bun:"last_name,notnull,type:varchar(100)"`
	Email           string     `bun:"email,notnull,type:varchar(254)"`
	Phone           string     `bun:"phone,notnull,type:varchar(16)"`
	DateOfBirth     *time.Time `bun:"date_of_birth,type:date"`
	Gender          *string    `bun:"gender,type:varchar(1)"`
	Specialization  string     `bun:"specialization,notnull,type:varchar(32)"`
	Qualification   string     `bun:"qualification,notnull,type:varchar(200)"`
	LicenseNumber   string     `bun:"license_number,notnull,type:varchar(50)"`
	ExperienceYears int        `bun:"experience_years,notnull"`
	ClinicName      *string    `bun:"clinic_name,type:varchar(200)"`
	ClinicAddress   *string    `bun:"clinic_address,type:text"`
	City            *string    `bun:"city,type:varchar(100)"`
	State           *string    `bun:"state,type:varchar(100)"`
	PostalCode      *string    `bun:"postal_code,type:varchar(20)"`
	Country         *string    `bun:"country,type:varchar(100)"`
	ConsultationFee float64    `bun:"consultation_fee,notnull,type:numeric(10,2)"`
	AvailableDays   *string    `bun:"available_days,type:varchar(100)"`
	AvailableTime   *string    `bun:"available_time,type:varchar(100)"`
	Bio             *string    `bun:"bio,type:text"`
	LanguagesSpoken *string    `bun:"languages_spoken,type:varchar(200)"`
	IsAvailable     bool       `bun:"is_available,notnull,default:true"`
	CreatedBy       *int64     `bun:"created_by"`
	CreatedAt       time.Time  `bun:"created_at,notnull"`
	UpdatedAt       time.Time  `bun:"updated_at,notnull"`
}

type mapping0001 struct {
	bun.BaseModel `bun:"table:mappings"`
	ID            int64     `bun:"id,pk,autoincrement"`
	PatientID     int64     `bun:"patient_id,notnull"`
	DoctorID      int64     `bun:"doctor_id,notnull"`
	Reason        *string   `bun:"reason,type:text"`
	Notes         *string   `bun:"notes,type:text"`
	Status        string    `bun:"status,notnull,type:varchar(16)"`
	CreatedBy     int64     `bun:"created_by,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	UpdatedAt     time.Time `bun:"updated_at,notnull"`
}

func init() {
	Migrations.MustRegister(func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			tables := []struct {
				model any
				fks   []string
			}{
				{(*user0001)(nil), nil},
				{(*refreshToken0001)(nil), []string{`("user_id") REFERENCES "users" ("id") ON DELETE CASCADE`}},
				{(*patient0001)(nil), []string{`("created_by") REFERENCES "users" ("id") ON DELETE CASCADE`}},
				{(*doctor0001)(nil), []string{`("created_by") REFERENCES "users" ("id") ON DELETE SET NULL`}},
				{(*mapping0001)(nil), []string{
					`("patient_id") REFERENCES "patients" ("id") ON DELETE CASCADE`,
					`("doctor_id") REFERENCES "doctors" ("id") ON DELETE CASCADE`,
					`("created_by") REFERENCES "users" ("id") ON DELETE CASCADE`,
				}},
			}
			for _, t := range tables {
				q := tx.NewCreateTable().Model(t.model)
				for _, fk := range t.fks {
					q = q.ForeignKey(fk)
				}
				if _, err := q.Exec(ctx); err != nil {
					return err
				}
			}
			// Every filter the APIs offer has an index; the owner comes first
			// where queries are scoped by owner. Ordering is by id.
			if err := exec(ctx, tx,
				`CREATE UNIQUE INDEX users_email_key ON users (email)`,
				`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`,
				`CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id)`,
				`CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at)`,
				`CREATE INDEX patients_owner_idx ON patients (created_by, id)`,
				`CREATE INDEX patients_owner_gender_idx ON patients (created_by, gender, id)`,
				`CREATE INDEX patients_owner_city_idx ON patients (created_by, lower(city), id)`,
				`CREATE INDEX patients_owner_active_idx ON patients (created_by, is_active, id)`,
				`CREATE INDEX patients_owner_blood_idx ON patients (created_by, blood_group, id)`,
				`CREATE INDEX patients_gender_idx ON patients (gender)`,
				`CREATE INDEX patients_city_idx ON patients (lower(city))`,
				`CREATE UNIQUE INDEX doctors_email_key ON doctors (email)`,
				`CREATE UNIQUE INDEX doctors_license_number_key ON doctors (license_number)`,
				`CREATE INDEX doctors_specialization_idx ON doctors (specialization, id)`,
				`CREATE INDEX doctors_city_idx ON doctors (lower(city), id)`,
				`CREATE INDEX doctors_available_idx ON doctors (is_available, id)`,
				`CREATE INDEX doctors_experience_idx ON doctors (experience_years)`,
				`CREATE INDEX doctors_fee_idx ON doctors (consultation_fee)`,
				`CREATE INDEX doctors_owner_idx ON doctors (created_by)`,
				`CREATE UNIQUE INDEX mappings_patient_doctor_key ON mappings (patient_id, doctor_id)`,
				`CREATE INDEX mappings_doctor_idx ON mappings (doctor_id, patient_id)`,
				`CREATE INDEX mappings_status_idx ON mappings (status)`,
				`CREATE INDEX mappings_owner_idx ON mappings (created_by, id)`,
			); err != nil {
				return err
			}
			if !isPG(tx) {
				return nil
			}
			// Case-insensitive substring search: trigram indexes on exactly
			// the expressions the stores search, so a search stays an index
			// scan at millions of rows.
			return exec(ctx, tx,
				`CREATE EXTENSION IF NOT EXISTS pg_trgm`,
				`CREATE INDEX patients_search_trgm ON patients USING gin ((lower(first_name || ' ' || last_name || ' ' || coalesce(email, '') || ' ' || phone)) gin_trgm_ops)`,
				`CREATE INDEX patients_name_trgm ON patients USING gin ((lower(first_name || ' ' || last_name)) gin_trgm_ops)`,
				`CREATE INDEX doctors_search_trgm ON doctors USING gin ((lower(first_name || ' ' || last_name || ' ' || specialization || ' ' || coalesce(city, ''))) gin_trgm_ops)`,
				`CREATE INDEX doctors_name_trgm ON doctors USING gin ((lower(first_name || ' ' || last_name)) gin_trgm_ops)`,
			)
		})
	}, func(ctx context.Context, db *bun.DB) error {
		return exec(ctx, db,
			`DROP TABLE IF EXISTS mappings`, `DROP TABLE IF EXISTS doctors`, `DROP TABLE IF EXISTS patients`,
			`DROP TABLE IF EXISTS refresh_tokens`, `DROP TABLE IF EXISTS users`)
	})
}
