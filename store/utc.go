package store

import (
	"reflect"
	"time"

	"gorm.io/gorm"
)

// registerUTC makes every time field written through GORM UTC, so SQLite
// (which keeps the offset it was given) and MySQL store the same instant the
// same way, and reads always come back in UTC.
func registerUTC(db *gorm.DB) error {
	toUTC := func(tx *gorm.DB) {
		if tx.Statement.Schema == nil || !tx.Statement.ReflectValue.IsValid() {
			return
		}
		rv := tx.Statement.ReflectValue
		apply := func(v reflect.Value) {
			for _, f := range tx.Statement.Schema.Fields {
				switch f.FieldType {
				case reflect.TypeOf(time.Time{}):
					if t, zero := f.ValueOf(tx.Statement.Context, v); !zero {
						_ = f.Set(tx.Statement.Context, v, t.(time.Time).UTC())
					}
				case reflect.TypeOf(&time.Time{}):
					if t, zero := f.ValueOf(tx.Statement.Context, v); !zero {
						if p, ok := t.(*time.Time); ok && p != nil {
							u := p.UTC()
							_ = f.Set(tx.Statement.Context, v, &u)
						}
					}
				}
			}
		}
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			for i := 0; i < rv.Len(); i++ {
				e := reflect.Indirect(rv.Index(i))
				if e.Kind() == reflect.Struct {
					apply(e)
				}
			}
		case reflect.Struct:
			apply(rv)
		}
	}
	if err := db.Callback().Create().Before("gorm:create").Register("learnloop:utc_create", toUTC); err != nil {
		return err
	}
	if err := db.Callback().Update().Before("gorm:update").Register("learnloop:utc_update", toUTC); err != nil {
		return err
	}
	return db.Callback().Query().After("gorm:query").Register("learnloop:utc_query", toUTC)
}
